"""A bare Django + DRF app: the machine's ceiling that ``make bench`` compares submit to.

``GET /hello`` is a plain Django JSON view; ``POST /insert`` validates a DRF serializer
and writes one row in a transaction. Same database, same gunicorn settings as the
project, so the ratio measures what the project does on top.
"""
