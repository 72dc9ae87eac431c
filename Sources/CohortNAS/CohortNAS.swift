// Weight-sharing NAS: supernet, RSWS, GAEA, DARTS.
