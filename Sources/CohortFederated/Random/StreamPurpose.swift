/// Tags that keep the random streams of a federated run apart.
///
/// Every stream is `RandomStream(seed: experimentSeed, stream: [purpose, identity...])`:
/// the purpose says what the numbers are for, the identities (round, client, arm) say
/// for whom. Nothing depends on which rank draws them, so a run with 3 ranks draws the
/// same clients, the same batches and the same FedEx configurations as one with 5.
public enum StreamPurpose {
    /// FedProx Synthetic: per-user sample counts and priors.
    public static let syntheticPrior: UInt64 = 0x5379_6E50_7269_6F72 // "SynPrior"
    /// FedProx Synthetic: one user's parameters and samples; identity = user index.
    public static let syntheticUser: UInt64 = 0x5379_6E55_7365_7273 // "SynUsers"
    /// Partitioning a centralized data set into clients.
    public static let partition: UInt64 = 0x5061_7274_6974_696F // "Partitio"
    /// Splitting one client's samples into train, validation and test; identity = client.
    public static let clientSplit: UInt64 = 0x436C_6953_706C_6974 // "CliSplit"
    /// Choosing which Shakespeare roles become clients (LEAF's sampling of users).
    public static let clientChoice: UInt64 = 0x436C_6943_686F_6963 // "CliChoic"
    /// Choosing the held-out clients.
    public static let heldOut: UInt64 = 0x4865_6C64_4F75_7421 // "HeldOut!"
    /// Choosing the clients of a round; identity = round.
    public static let clientSampling: UInt64 = 0x436C_6953_616D_706C // "CliSampl"
    /// Choosing a round's stragglers; identity = round.
    public static let stragglers: UInt64 = 0x5374_7261_6767_6C65 // "Straggle"
    /// A straggler's reduced amount of local work; identity = round, client.
    public static let stragglerWork: UInt64 = 0x5374_7257_6F72_6B21 // "StrWork!"
    /// A client's local training (batch order, dropout); identity = round, client.
    public static let localTraining: UInt64 = 0x4C6F_6354_7261_696E // "LocTrain"
    /// Fine-tuning a client's copy of the global model for evaluation; identity =
    /// rounds completed, group (0 training, 1 held out), client.
    public static let fineTune: UInt64 = 0x4669_6E65_5475_6E65 // "FineTune"
    /// FedEx: a client's draw of local hyperparameters; identity = arm, round, client.
    public static let fedexDraw: UInt64 = 0x4665_6445_7844_7277 // "FedExDrw"
    /// Initial weights of the global model; identity = arm.
    public static let modelInit: UInt64 = 0x4D6F_6465_6C49_6E69 // "ModelIni"
    /// The outer search over server hyperparameters.
    public static let serverSearch: UInt64 = 0x5372_7653_6561_7263 // "SrvSearc"
    /// FedEx: the perturbations of an arm's first configuration; identity = arm.
    public static let fedexPerturbation: UInt64 = 0x4665_6450_6572_7462 // "FedPertb"
    /// FedEx: an arm's baseline discount drawn from U[0, 1]; identity = arm.
    public static let fedexDiscount: UInt64 = 0x4665_6444_6973_6321 // "FedDisc!"
    /// Clients sampled with replacement: a later occurrence of a client in one round
    /// adds its occurrence number to the client's stream identities.
    public static let repeatedClient: UInt64 = 0x5265_7065_6174_4369 // "RepeatCi"
}
