"""The operator console: an admin dashboard of usage and health, and a transcript viewer.

It reads other apps' models lazily (``django.apps.apps.get_model``) so a project without
billing or plugins still gets the sections that apply to it.
"""
