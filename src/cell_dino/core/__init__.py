"""Infrastructure every part of the library shares, apart from the Kedro glue at the package root:
atomic writes, typed configuration, the shard executor, generations and fingerprints, jobs and
their resumable parts, run reports, the device and precision, secrets, undefined results, and the
errors a user can act on."""
