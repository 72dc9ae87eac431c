// Module CohortTensor.
