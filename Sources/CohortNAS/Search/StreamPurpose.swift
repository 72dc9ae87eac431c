/// Identities of the random streams a search draws from. Every stream is named by
/// the experiment seed plus one of these (and a step, round or trial where it
/// applies), never by a rank: every rank draws the same numbers.
enum StreamPurpose {
    /// The architecture of supernet step s (random search with weight sharing).
    static let architectureSampling: UInt64 = 0x4E41_5341_7263_6853   // "NASArchS"
    /// The order of supernet training batches.
    static let searchBatches: UInt64 = 0x4E41_5342_6174_6368           // "NASBatch"
    /// The order of architecture-step batches (bilevel GAEA and DARTS).
    static let architectureBatches: UInt64 = 0x4E41_5341_4261_7463     // "NASABatc"
    /// DARTS' initial logits.
    static let dartsInitialization: UInt64 = 0x4E41_5344_496E_6974     // "NASDInit"
    /// Which training samples a search or a retraining uses.
    static let trainingSubset: UInt64 = 0x4E41_5353_7562_7365          // "NASSubse"
    /// The 1:1 training/validation split of a search.
    static let searchSplit: UInt64 = 0x4E41_5353_706C_6974             // "NASSplit"
    /// The validation split of a retraining.
    static let retrainSplit: UInt64 = 0x4E41_5352_5370_6C74            // "NASRSplt"
    /// The architectures sampled in scoring round r.
    static let candidateSampling: UInt64 = 0x4E41_5343_616E_6469       // "NASCandi"
    /// The validation minibatches of scoring round r.
    static let scoringBatches: UInt64 = 0x4E41_5353_636F_7265          // "NASScore"
    /// Uniformly random architectures for baselines (`cohort nas sample`).
    static let baselineSampling: UInt64 = 0x4E41_5342_6173_656C        // "NASBasel"
    /// Batch order of retraining an architecture.
    static let retrainBatches: UInt64 = 0x4E41_5352_4261_7463          // "NASRBatc"
}
