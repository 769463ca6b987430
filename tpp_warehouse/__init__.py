"""tpp_warehouse: the Pyramid plugin for Warehouse-like registries (in development).

For now it ships the ``tpp`` command line (:mod:`tpp_warehouse.cli`); the plugin itself arrives with
``config.include("tpp_warehouse")``.
"""
