from assistants_ui.cli import main

raise SystemExit(main())
