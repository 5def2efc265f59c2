"""The file `assistants-ui run` hands to `streamlit run` (inside the package)."""

from assistants_ui.web.app import main

main()
