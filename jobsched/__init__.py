"""jobsched: the domain core of the job scheduler (models, rules, ports, use cases, adapters)."""
