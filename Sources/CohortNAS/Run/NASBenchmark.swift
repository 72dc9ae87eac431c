import CohortCluster
import CohortTensor
import Foundation

/// Supernet throughput: `steps` training steps of the configured strategy, without
/// writing anything (`cohort nas bench`).
public enum NASBenchmark {
    public static func supernet(_ config: NASConfig, steps: Int, communicator: Communicator) throws -> SupernetReport {
        try config.validate(ranks: communicator.size)
        let data = try NASData.search(config)
        let search = try SupernetSearch(config: config, data: data, communicator: communicator, recorder: nil)
        return try search.train(maxSteps: steps)
    }
}
