"""The statements a search answer is made of, each built from the parsed query: which
documents match (``match``, with the rank ceiling of a walk in ``ceiling``), their counts
(``facets`` live, ``facet_counts`` from the kept counts) and the page (``page``). With
``store.py`` (the index's own tables) and ``answer_store.py`` (what an answer looks up
besides), these are the only modules of search that hold SQL."""
