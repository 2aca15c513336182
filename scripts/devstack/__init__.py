"""Developer tooling shared by `make up`, `make test` and `make bench`: start the real servers
(Redis, FerretDB, Traefik) on chosen or free ports, wait for them, stop them cleanly."""
