"""Pollers, for machines that cannot receive webhooks: the shared contract (:mod:`.base`), one
module per poller, and the schedule that runs them (:mod:`.schedule`)."""
