{
  'includes': ['sources.gypi'],
  'target_defaults': {
    'cflags': ['-fPIC', '-fvisibility=hidden'],
    'cflags_cc': ['-std=c++20', '-O3', '-ffp-contract=off'],
    'cflags_cc!': ['-std=gnu++17', '-std=gnu++14', '-fno-rtti', '-fno-exceptions'],
    'defines': ['NAPI_VERSION=9', 'NODE_ADDON_API_DISABLE_DEPRECATED', 'NAPI_CPP_EXCEPTIONS'],
    'include_dirs': ["<!(node -p \"require('node-addon-api').include_dir\")"],
    'xcode_settings': {
      'CLANG_CXX_LANGUAGE_STANDARD': 'c++20',
      'GCC_ENABLE_CPP_EXCEPTIONS': 'YES',
      'GCC_ENABLE_CPP_RTTI': 'YES',
      'MACOSX_DEPLOYMENT_TARGET': '11.0',
      'OTHER_CPLUSPLUSFLAGS': ['-ffp-contract=off', '-fvisibility=hidden'],
    },
    'msvs_settings': {
      'VCCLCompilerTool': {'AdditionalOptions': ['/std:c++20', '/fp:precise'], 'ExceptionHandling': 1},
    },
  },
  'targets': [
    {
      'target_name': 'affinity',
      'sources': ['<@(affinity_core_sources)', '<@(affinity_binding_sources)'],
      'conditions': [
        ['target_arch=="x64"', {'dependencies': ['affinity_kernels_avx2', 'affinity_kernels_avx512']}],
      ],
    },
  ],
  'conditions': [
    ['target_arch=="x64"', {
      'targets': [
        {
          # Each ISA level is its own library so only its files get the wider instruction set.
          'target_name': 'affinity_kernels_avx2',
          'type': 'static_library',
          'sources': ['<@(affinity_avx2_sources)'],
          'cflags_cc': ['-mavx2', '-mfma'],
          'xcode_settings': {'OTHER_CPLUSPLUSFLAGS': ['-mavx2', '-mfma']},
          'msvs_settings': {'VCCLCompilerTool': {'EnableEnhancedInstructionSet': '5'}},
        },
        {
          'target_name': 'affinity_kernels_avx512',
          'type': 'static_library',
          'sources': ['<@(affinity_avx512_sources)'],
          'cflags_cc': ['-mavx512f', '-mavx2', '-mfma'],
          'xcode_settings': {'OTHER_CPLUSPLUSFLAGS': ['-mavx512f', '-mavx2', '-mfma']},
          'msvs_settings': {'VCCLCompilerTool': {'AdditionalOptions': ['/arch:AVX512']}},
        },
      ],
    }],
  ],
}
