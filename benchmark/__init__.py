"""`make bench`: the create function measured against the minimal I/O of a create."""
