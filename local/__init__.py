"""The embedded default: the whole scheduler on one machine, and the `jobsched` command. An edge,
like api/: it composes the core (jobsched/) with the HTTP API, a local store, a dispatcher
loop, a schedule ticker and an executor that runs the job image's worker as a subprocess."""
