"""TPP's alembic migrations, on their own version table (see :mod:`tpp_warehouse.migrate`)."""
