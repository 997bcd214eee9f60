"""Developer and operations tools that run beside the Django project."""
