"""The engine, with no Discord in it: catalog, validation, limits, JobService, the admin service and the poller."""
