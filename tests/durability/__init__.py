"""The collector's durability promises: acknowledged means committed, SIGKILL loses nothing
acknowledged and shows no partial request, and trouble in the store is 503/429, never 500."""
