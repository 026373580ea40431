#include "adapters/service/service_metrics.h"

namespace roundup::adapters::service {

ServiceMetrics& service_metrics() {
  static ServiceMetrics metrics;
  return metrics;
}

}  // namespace roundup::adapters::service
