extension Collection {
    /// The index of the first element `score` rates highest (`nil` when empty): how a
    /// preference picks among equally ready jobs, ties going to the usual order.
    func firstIndexOfHighest(_ score: (Element) -> Int) -> Index? {
        var chosen: Index?, top = Int.min
        for i in indices {
            let s = score(self[i])
            if chosen == nil || s > top { chosen = i; top = s }
        }
        return chosen
    }
}
