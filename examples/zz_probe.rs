use burn::tensor::{Bool, Int, Tensor, TensorData};
fn main() {
    let dev = oxgrad::backend::cpu_autodiff();
    let a = Tensor::<1>::from_data(TensorData::new(vec![1.0f64, 2.0, 3.0], [3]), &dev);
    let p = Tensor::<1>::from_data(TensorData::new(vec![2.0f64], [1]), &dev).require_grad();
    let s = a.clone() * p.clone() + p.clone();
    println!("bcast mul: {:?}", s.to_data().to_vec::<f64>());
    let m = a.clone().lower(p.clone());
    println!("lower bcast: {:?}", m.to_data().to_vec::<bool>());
    let z = a.clone().mask_where(m.clone(), p.clone().expand([3]));
    println!("mask_where: {:?}", z.to_data().to_vec::<f64>());
    let idx = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 1, 0], [3]), &dev);
    let sums = Tensor::<1>::zeros([2], &dev).select_assign(0, idx, s.clone(), burn::tensor::IndexingUpdateOp::Add);
    println!("scatter: {:?}", sums.to_data().to_vec::<f64>());
    let g = (sums.sum() + z.sum()).backward();
    println!("grad p: {:?}", p.grad(&g).map(|t| t.to_data().to_vec::<f64>()));
    let c = Tensor::<1>::from_data(TensorData::new(vec![1.0f64, 0.5], [2]), &dev).require_grad();
    let th = c.clone().acos();
    let gg = th.sum().backward();
    println!("acos grad: {:?}", c.grad(&gg).map(|t| t.to_data().to_vec::<f64>()));
    let _: Option<Tensor<1, Bool>> = None;
}
