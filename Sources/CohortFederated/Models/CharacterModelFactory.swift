import CohortFiles
import CohortTensor
import CohortTune

/// Builds next-character models as `TensorCoreModel`s: character indices → an embedding
/// → stacked LSTM (or GRU) layers → the last step → a linear map to the vocabulary, whose
/// cross-entropy is the softmax over it. The defaults are LEAF's Shakespeare model.
///
/// ```yaml
/// model:
///   type: char_lstm
///   embedding: 8
///   hidden: 256
///   layers: 2
///   cell: lstm          # or gru
///   clip_norm: 5        # gradient norm clipping per local step (0: none)
/// ```
struct CharacterModelFactory: FederatedModelFactory {
    let embedding: Int
    let hidden: Int
    let layers: Int
    let cell: RecurrentStack.Kind
    let clipNorm: Double
    let name: String

    init(spec: FederatedModelSpec) throws {
        let issues = ConfigIssues()
        var embedding = 8, hidden = 256, layers = 2, cell = RecurrentStack.Kind.lstm, clipNorm = 0.0
        if let section = ConfigSection(.object(spec.fields), path: "model", issues: issues) {
            embedding = section.int("embedding", default: 8)
            hidden = section.int("hidden", default: 256)
            layers = section.int("layers", default: 2)
            cell = section.choice("cell", cell)
            clipNorm = section.double("clip_norm", default: 0)
            for (key, value, limit) in [("embedding", embedding, 4096), ("hidden", hidden, 8192), ("layers", layers, 16)]
            where value < 1 || value > limit {
                issues.add(section.at(key), "must be in 1...\(limit), got \(value)")
            }
            if !(clipNorm >= 0 && clipNorm.isFinite) { issues.add(section.at("clip_norm"), "must be a number of at least 0, got \(clipNorm)") }
            section.finish(also: ["type"])
        }
        try issues.throwIfAny()
        self.embedding = embedding
        self.hidden = hidden
        self.layers = layers
        self.cell = cell
        self.clipNorm = clipNorm
        name = "\(cell)(\(embedding),\(hidden)x\(layers))"
    }

    func makeModel(sampleShape: [Int], classCount: Int) throws -> FederatedModel {
        guard sampleShape.count == 1, let steps = sampleShape.first, steps >= 1 else {
            throw FederatedError.invalidValue(field: "model", message: "char_lstm reads sequences of character indices, but samples have shape \(sampleShape)")
        }
        let net = Sequential(Embedding(vocabulary: classCount, dimension: embedding),
                             RecurrentStack(cell, inputSize: embedding, hiddenSize: hidden, layers: layers),
                             LastStep(), Linear(hidden, classCount, weightInit: .xavierUniform))
        return try TensorCoreModel(module: net, inputShape: [steps], indexInputs: classCount,
                                   gradientClipNorm: clipNorm > 0 ? Float(clipNorm) : nil)
    }
}
