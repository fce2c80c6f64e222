#pragma once
// Reads checkpoint tensors straight into their final buffers at the model's dtype and device,
// several tensors stacked along dim 0 for fused projections (q/k/v, gate/up), so a load never
// holds the files and the weights at once (SafeTensors::read_into drops the pages it read).
#include <ATen/ATen.h>

#include <initializer_list>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/huge_pages.h"
#include "core/safetensors.h"

namespace kvb {

class WeightReader {
 public:
  // `in_file`: the name each published name has in this checkpoint (absent: the same name).
  WeightReader(const SafeTensors& st, at::TensorOptions opts, std::map<std::string, std::string> in_file = {})
      : st_(st), opts_(opts), in_file_(std::move(in_file)) {}

  // Every tensor read from now on is also listed in `views`, under its published name, as a view
  // of the buffer it went into: what a trainer writes back as a checkpoint.
  void record_views(std::vector<std::pair<std::string, at::Tensor>>* views) { views_ = views; }

  at::Tensor operator()(std::initializer_list<std::string> names) const {
    std::vector<int64_t> shape;
    int64_t rows = 0;
    for (const auto& n : names) {
      shape = st_.info(file_name(n)).shape;
      rows += shape.empty() ? 1 : shape[0];
    }
    if (names.size() > 1) shape[0] = rows;
    at::Tensor out = at::empty(shape, opts_);
    if (out.is_cpu()) advise_huge_pages(out.data_ptr(), out.nbytes());
    if (names.size() == 1) {
      st_.read_into(file_name(*names.begin()), out);
      if (views_) views_->emplace_back(*names.begin(), out);
      return out;
    }
    int64_t at_row = 0;
    for (const auto& n : names) {
      const int64_t r = st_.info(file_name(n)).shape[0];
      st_.read_into(file_name(n), out.narrow(0, at_row, r));
      if (views_) views_->emplace_back(n, out.narrow(0, at_row, r));
      at_row += r;
    }
    return out;
  }

 private:
  const std::string& file_name(const std::string& n) const {
    const auto it = in_file_.find(n);
    return it == in_file_.end() ? n : it->second;
  }

  const SafeTensors& st_;
  at::TensorOptions opts_;
  std::map<std::string, std::string> in_file_;
  std::vector<std::pair<std::string, at::Tensor>>* views_ = nullptr;
};

}  // namespace kvb
