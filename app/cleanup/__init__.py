"""Cleaning scraped copy: pure functions, no database. The services feed them what the
database knows (a source's recurring lines) and store what they return."""
