# Reference numbers for tests/outcomes/test_parity_r.py, produced with
#   Rscript make_reference.R   (R 4.2.2, survival 3.5-3, Debian packages r-base-core, r-cran-survival)
# The datasets are survival::aml and survival::lung as shipped with the package.
library(survival)
dump_fit <- function(fit, name) {
  s <- summary(fit, censored = TRUE)
  strata <- if (is.null(s$strata)) rep("all", length(s$time)) else as.character(s$strata)
  out <- data.frame(fit = name, strata = strata, time = s$time, n_risk = s$n.risk,
                    n_event = s$n.event, surv = s$surv, std_err = s$std.err,
                    lower = s$lower, upper = s$upper)
  out
}
median_table <- function(fit, name) {
  q <- quantile(fit, probs = 0.5, conf.int = TRUE)
  strata <- if (is.null(fit$strata)) "all" else names(fit$strata)
  data.frame(fit = name, strata = strata, median = as.vector(q$quantile),
             lower = as.vector(q$lower), upper = as.vector(q$upper))
}
aml_all <- survfit(Surv(time, status) ~ 1, data = aml, conf.type = "log-log")
aml_x <- survfit(Surv(time, status) ~ x, data = aml, conf.type = "log-log")
lung2 <- transform(lung, event = status - 1)
lung_all <- survfit(Surv(time, event) ~ 1, data = lung2, conf.type = "log-log")
lung_sex <- survfit(Surv(time, event) ~ sex, data = lung2, conf.type = "log-log")
curves <- rbind(dump_fit(aml_all, "aml"), dump_fit(aml_x, "aml_by_x"),
                dump_fit(lung_all, "lung"), dump_fit(lung_sex, "lung_by_sex"))
write.csv(curves, "r_survfit_curves.csv", row.names = FALSE)
medians <- rbind(median_table(aml_all, "aml"), median_table(aml_x, "aml_by_x"),
                 median_table(lung_all, "lung"), median_table(lung_sex, "lung_by_sex"))
write.csv(medians, "r_survfit_medians.csv", row.names = FALSE)
at <- function(fit, name, times) {
  s <- summary(fit, times = times, extend = TRUE)
  data.frame(fit = name, time = s$time, n_risk = s$n.risk, surv = s$surv,
             lower = s$lower, upper = s$upper)
}
write.csv(rbind(at(lung_all, "lung", c(365, 730))), "r_survfit_landmarks.csv", row.names = FALSE)
write.csv(data.frame(time = lung$time, status = lung$status - 1, sex = lung$sex),
          "lung.csv", row.names = FALSE)
print(aml)
