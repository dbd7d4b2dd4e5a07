"""The researcher's workspace: `valuestory workspace`, a local web app over a project's runs."""
