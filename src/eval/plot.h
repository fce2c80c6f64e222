#pragma once
// `kvbench plot`: PNG figures through gnuplot (data + script files are kept next to them):
//   score_vs_rho_<benchmark>.png     score vs ρ, one line per method row (Full as a flat line)
//   agree_full_vs_rho_<benchmark>.png, kl_full_vs_rho_<benchmark>.png   the same for agreement
//                                    with Full's answer and first-step KL, when there is a Full cell
//   compress_ms_vs_tokens.png        compression ms vs prompt tokens, one point set per method
//   decode_ms_vs_kept_kv.png         median decode ms/token vs kept KV tokens, per method
//   score_vs_<key>_<method>_<benchmark>.png   score vs a numeric grid key a method sweeps (e.g.
//                                    gamma), one line per ρ
// Each series has its own colour and marker; ρ and grid-key axes are ticked at the swept values.
#include <string>
#include <vector>

#include "eval/table.h"

namespace kvb {

// Writes the .dat/.gp files into `out_dir` and runs `gnuplot` on each script (when
// run_gnuplot). Returns the PNG paths. Throws kvb::Error when gnuplot fails.
std::vector<std::string> write_plots(const Experiment& exp, const RecordSource& source, const std::string& out_dir,
                                     bool run_gnuplot = true);

}  // namespace kvb
