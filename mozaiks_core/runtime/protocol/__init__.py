"""The chat protocol on the wire: frame shapes, channel-layer group names and the channel layers.

Both runs (which publish) and sockets (which deliver) use it. Imports nothing else of the runtime.
"""
