"""Shared by the Python tests: the compile yaml of a one-input 1x1x28x28 featuremap model (fmnist)."""


def fmnist_featuremap_yaml(model, working_dir, cal_data_dir, quant_config=None, node_info=""):
    """The yaml text: prefix `fm`, calibration_type max, optional quant_config (JSON string) and node_info block
    (yaml lines under model_parameters)."""
    qc = "  quant_config: '%s'\n" % quant_config if quant_config else ""
    return ("model_parameters:\n  onnx_model: '%s'\n  march: x86-avx512vnni\n  working_dir: '%s'\n"
            "  output_model_file_prefix: fm\n%s"
            "input_parameters:\n  input_name: input\n  input_type_rt: featuremap\n  input_type_train: featuremap\n"
            "  input_layout_train: NCHW\n  input_shape: 1x1x28x28\n"
            "calibration_parameters:\n  cal_data_dir: '%s'\n  calibration_type: max\n%s"
            "compiler_parameters:\n  optimize_level: O2\n" % (model, working_dir, node_info, cal_data_dir, qc))
