"""What people meet: the routes, pages, forms and their checks, headers, static files and languages."""
