"""The local execution edge: a dispatcher loop in threads, an executor that runs the container's
worker as a subprocess, and run logs kept as files. Only the local runtime imports this package;
the core never does."""
