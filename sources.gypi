# The one source list. binding.gyp includes it; CMakeLists.txt parses it. Keep one file per line.
{
  'variables': {
    'affinity_core_sources': [
      'native/core/als.cc',
      'native/core/als_score.cc',
      'native/core/clv.cc',
      'native/core/csv.cc',
      'native/core/eigen.cc',
      'native/core/kmeans.cc',
      'native/core/knn.cc',
      'native/core/lbfgs.cc',
      'native/core/logreg.cc',
      'native/core/recommend.cc',
      'native/core/similarity.cc',
      'native/core/sparse.cc',
      'native/core/threadpool.cc',
      'native/simd/dispatch.cc',
      'native/kernels/scalar/dense.cc',
      'native/kernels/scalar/scan.cc',
      'native/kernels/neon/dense.cc',
      'native/kernels/neon/scan.cc',
    ],
    'affinity_avx2_sources': [
      'native/kernels/avx2/dense.cc',
      'native/kernels/avx2/scan.cc',
    ],
    'affinity_avx512_sources': [
      'native/kernels/avx512/dense.cc',
      'native/kernels/avx512/scan.cc',
    ],
    'affinity_binding_sources': [
      'bindings/addon.cc',
      'bindings/analytics.cc',
      'bindings/als_model.cc',
      'bindings/clv.cc',
      'bindings/csv_reader.cc',
      'bindings/glue.cc',
      'bindings/knn_model.cc',
      'bindings/mapped_file.cc',
    ],
  },
}
