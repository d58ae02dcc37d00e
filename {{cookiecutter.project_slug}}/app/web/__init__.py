"""Pages the service serves to browsers: the API docs, the front door and the playground."""
