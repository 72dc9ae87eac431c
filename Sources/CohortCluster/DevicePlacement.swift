import Foundation

/// Which accelerators (GPUs) each worker rank uses.
///
/// Workers are numbered per host in rank order (rank 0, the coordinator, trains
/// nothing and gets none); worker i of a host gets `perTrial` devices from that
/// host's list, starting at `i * perTrial`, wrapping around when there are more
/// workers than devices. The assignment is passed to the user's program as
/// `CUDA_VISIBLE_DEVICES`; a host without devices sets nothing.
public struct DevicePlacement: Equatable, Sendable {
    /// Where the device list comes from.
    public enum Source: Equatable, Sendable {
        /// The host's own: the launcher's `CUDA_VISIBLE_DEVICES` if it set one, else the
        /// NVIDIA devices the driver lists; none on a machine without them.
        case auto
        /// No devices for anyone.
        case none
        /// These device ids on every host.
        case list([String])
    }

    public var source: Source
    public var perTrial: Int

    public init(source: Source = .auto, perTrial: Int = 1) {
        self.source = source
        self.perTrial = perTrial
    }

    /// The devices of this host.
    public func hostDevices(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        switch source {
        case .none: return []
        case let .list(ids): return ids
        case .auto:
            if let visible = environment["CUDA_VISIBLE_DEVICES"] {
                return visible.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && $0 != "-1" }
            }
            let gpus = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/driver/nvidia/gpus")) ?? []
            return (0..<gpus.count).map(String.init)
        }
    }

    /// The index of `rank` among the workers on its host (nil for rank 0), given every
    /// rank's host name in rank order.
    public static func localWorkerIndex(rank: Int, hosts: [String]) -> Int? {
        guard rank > 0, rank < hosts.count else { return nil }
        return (1..<rank).filter { hosts[$0] == hosts[rank] }.count
    }

    /// The devices of worker `index` of a host that has `devices`.
    public func devices(forWorker index: Int, of devices: [String]) -> [String] {
        guard !devices.isEmpty, perTrial > 0 else { return [] }
        return (0..<perTrial).map { devices[(index * perTrial + $0) % devices.count] }
    }

    /// The environment that assigns `devices`: nothing when there are none.
    public static func environment(_ devices: [String]) -> [String: String] {
        devices.isEmpty ? [:] : ["CUDA_VISIBLE_DEVICES": devices.joined(separator: ",")]
    }

    /// Every rank's host and devices (a collective: every rank calls it). Entry r is rank r's.
    public func assignments(comm: Communicator) throws -> [(host: String, devices: [String])] {
        let mine = Cluster.processorName + "\n" + hostDevices().joined(separator: ",")
        let all = try comm.allgather(Array(mine.utf8)).map { String(decoding: $0, as: UTF8.self) }
        let hosts = all.map { String($0.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)[0]) }
        return all.enumerated().map { rank, text in
            let parts = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
            let hostDevices = parts.count > 1 ? parts[1].split(separator: ",").map(String.init) : []
            guard let i = DevicePlacement.localWorkerIndex(rank: rank, hosts: hosts) else { return (hosts[rank], []) }
            return (hosts[rank], devices(forWorker: i, of: hostDevices))
        }
    }
}
