"""arq workers: `graphql-api worker` (or `arq workers.settings.WorkerSettings`) runs them."""
