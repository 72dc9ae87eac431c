import Foundation

/// "Good enough": a result trained to at least `resource` whose metric is at least
/// as good as `metric` ends the search (the `target` setting of a config).
public struct StopTarget: Equatable, Sendable {
    public var metric: Double
    public var resource: Double

    public init(metric: Double, resource: Double) {
        self.metric = metric
        self.resource = resource
    }

    public func isReached(metric m: Double, resource r: Double, mode: MetricMode) -> Bool {
        r >= resource * (1 - 1e-12) && (m == metric || mode.isBetter(m, than: metric))
    }
}
