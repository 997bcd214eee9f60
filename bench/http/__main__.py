"""``python -m bench.http``: run the HTTP benchmark (see ``bench.http.runner``)."""

from bench.http.runner import main

raise SystemExit(main())
