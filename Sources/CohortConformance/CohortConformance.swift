// Module CohortConformance.
