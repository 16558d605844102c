"""`python -m worker`: the image's entrypoint."""

from worker.main import main

raise SystemExit(main())
