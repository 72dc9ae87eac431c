print("conformance: not yet")
