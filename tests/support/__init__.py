"""What the integration tests, the soak tests and the benchmarks share to talk to a receiver.

``samples`` finds the real-format payloads in ``sample_data/``; ``receiver_http`` sends one
request the way a monitoring tool would; ``sender`` paces many over keep-alive connections.
None of them imports ``oncall_tui``, so a sender process starts fast and measures only itself.
"""
