"""The node-graph canvas: a QGraphicsScene view of a NetworkGraph."""
