"""Entry file for `streamlit run` and Streamlit Community Cloud."""

from assistants_ui.web.app import main

main()
