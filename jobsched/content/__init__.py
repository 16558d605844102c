"""Stories and research cards: the content the workloads write, its store, near-duplicate
detection, matching of cards to story templates, and indexing of run outputs."""
