from compliance.cli.main import main

raise SystemExit(main())
