// Module CohortData.
