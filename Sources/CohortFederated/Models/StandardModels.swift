extension FederatedModelCatalog {
    /// The models `cohort fed` configs can name.
    public static var standard: FederatedModelCatalog {
        FederatedModelCatalog()
    }
}
