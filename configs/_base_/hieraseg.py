# Loads the hieraseg plugins (datasets, heads, losses, hooks, metrics, visualizer).
custom_imports = dict(imports=['hieraseg'], allow_failed_imports=False)
