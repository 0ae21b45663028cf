"""The plugin host: app workspace, modules, capability packs and domain events."""
