// Module CohortTune.
