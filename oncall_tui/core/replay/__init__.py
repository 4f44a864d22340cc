"""Going back in time: the journal folded up to any position, with snapshots so moving is cheap."""
