"""The network as torch modules (one MLP, K stacked members), its sizes and losses, and the trained network
read back as NumPy arrays with its forward pass and gradients.
"""
