"""The rules of a case, in plain Python: lifecycle, working days and deadlines.

Nothing here imports Flask or SQLAlchemy, so the rules can be tested in milliseconds and used
by the API, the channels and the workers alike.
"""
